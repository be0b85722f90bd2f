ALTER TABLE "snapshots" ADD COLUMN "hot" boolean DEFAULT false NOT NULL;
