ALTER TABLE "jobs" ADD COLUMN "parent_id" text;--> statement-breakpoint
CREATE INDEX "jobs_parent_idx" ON "jobs" USING btree ("parent_id");