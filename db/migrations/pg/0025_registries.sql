CREATE TABLE "registries" (
	"host" text PRIMARY KEY NOT NULL,
	"insecure" boolean DEFAULT false NOT NULL,
	"username" text,
	"password" text,
	"ca" text,
	"updated_at" bigint NOT NULL
);
