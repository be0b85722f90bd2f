ALTER TABLE "machines" ADD COLUMN "record_console" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "prefs_json" text DEFAULT '{}' NOT NULL;