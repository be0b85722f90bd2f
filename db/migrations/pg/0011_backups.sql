CREATE TABLE "backup_targets" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"config_json" text NOT NULL,
	"secret" text,
	"created_by" text,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	CONSTRAINT "backup_targets_name_unique" UNIQUE("name")
);
--> statement-breakpoint
ALTER TABLE "schedules" ADD COLUMN "backup_target_id" text;--> statement-breakpoint
ALTER TABLE "schedules" ADD COLUMN "backup_keep" integer;--> statement-breakpoint
ALTER TABLE "backup_targets" ADD CONSTRAINT "backup_targets_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;