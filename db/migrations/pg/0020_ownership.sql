ALTER TABLE "machines" ADD COLUMN "node_id" text;
--> statement-breakpoint
ALTER TABLE "snapshots" ADD COLUMN "node_id" text;
