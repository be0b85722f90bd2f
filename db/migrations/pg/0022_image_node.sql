ALTER TABLE "images" ADD COLUMN "node_id" text;
