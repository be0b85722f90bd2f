CREATE TABLE "image_copies" (
	"image_id" text NOT NULL,
	"node_id" text NOT NULL,
	"path" text NOT NULL,
	"image_updated_at" bigint NOT NULL,
	"bytes" bigint DEFAULT 0 NOT NULL,
	"created_at" bigint NOT NULL,
	"last_used_at" bigint NOT NULL,
	CONSTRAINT "image_copies_image_id_node_id_pk" PRIMARY KEY("image_id","node_id")
);
