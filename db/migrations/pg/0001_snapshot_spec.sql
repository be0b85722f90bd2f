ALTER TABLE "snapshots" ADD COLUMN "driver" text DEFAULT 'qemu' NOT NULL;--> statement-breakpoint
ALTER TABLE "snapshots" ADD COLUMN "image" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "snapshots" ADD COLUMN "spec_json" text DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE "snapshots" ADD COLUMN "disk_path" text DEFAULT '' NOT NULL;