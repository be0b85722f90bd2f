CREATE TABLE "snapshot_copies" (
	"snapshot_id" text NOT NULL,
	"node_id" text NOT NULL,
	"path" text NOT NULL,
	"disk_path" text NOT NULL,
	"spec_json" text NOT NULL,
	"bytes" bigint DEFAULT 0 NOT NULL,
	"created_at" bigint NOT NULL,
	"last_used_at" bigint NOT NULL,
	CONSTRAINT "snapshot_copies_snapshot_id_node_id_pk" PRIMARY KEY("snapshot_id","node_id")
);
