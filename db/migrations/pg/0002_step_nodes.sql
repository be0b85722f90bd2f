CREATE TABLE "step_nodes" (
	"key" text PRIMARY KEY NOT NULL,
	"parent_key" text,
	"step" text NOT NULL,
	"version" text NOT NULL,
	"args_json" text DEFAULT '{}' NOT NULL,
	"image" text NOT NULL,
	"driver" text NOT NULL,
	"snapshot_id" text,
	"duration_ms" bigint DEFAULT 0 NOT NULL,
	"hits" bigint DEFAULT 0 NOT NULL,
	"last_used_at" bigint NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE INDEX "step_nodes_parent_idx" ON "step_nodes" USING btree ("parent_key");