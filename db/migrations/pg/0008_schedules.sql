CREATE TABLE "schedules" (
	"id" text PRIMARY KEY NOT NULL,
	"machine_id" text,
	"tag" text,
	"cron" text NOT NULL,
	"time_zone" text NOT NULL,
	"keep_json" text NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"created_by" text,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	"next_run_at" bigint,
	"last_run_at" bigint,
	"last_status" text,
	"last_job_id" text,
	"last_error" text
);
--> statement-breakpoint
ALTER TABLE "snapshots" ADD COLUMN "schedule_id" text;--> statement-breakpoint
ALTER TABLE "schedules" ADD CONSTRAINT "schedules_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;