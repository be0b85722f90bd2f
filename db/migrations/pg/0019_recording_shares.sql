ALTER TABLE "share_links" ADD COLUMN "recording_id" text;
