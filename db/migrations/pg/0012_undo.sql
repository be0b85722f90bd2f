ALTER TABLE "schedules" ADD COLUMN "kind" text DEFAULT 'snapshot' NOT NULL;--> statement-breakpoint
ALTER TABLE "schedules" ADD COLUMN "every_ms" bigint;--> statement-breakpoint
ALTER TABLE "snapshots" ADD COLUMN "undo_point" boolean DEFAULT false NOT NULL;
