CREATE TABLE "isos" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"size_bytes" bigint NOT NULL,
	"format" text NOT NULL,
	"source" text NOT NULL,
	"created_by" text,
	"created_at" bigint NOT NULL,
	CONSTRAINT "isos_name_unique" UNIQUE("name")
);
--> statement-breakpoint
ALTER TABLE "isos" ADD CONSTRAINT "isos_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;
