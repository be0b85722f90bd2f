CREATE TABLE "nodes" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"internal_url" text NOT NULL,
	"version" text NOT NULL,
	"public_key" text NOT NULL,
	"state" text DEFAULT 'active' NOT NULL,
	"capabilities_json" text DEFAULT '{}' NOT NULL,
	"drivers_json" text DEFAULT '[]' NOT NULL,
	"cpus" integer DEFAULT 0 NOT NULL,
	"memory_mib" bigint DEFAULT 0 NOT NULL,
	"memory_limit_mib" bigint DEFAULT 0 NOT NULL,
	"usage_json" text DEFAULT '{}' NOT NULL,
	"joined_at" bigint NOT NULL,
	"heartbeat_at" bigint NOT NULL,
	CONSTRAINT "nodes_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "join_tokens" (
	"id" text PRIMARY KEY NOT NULL,
	"token_hash" text NOT NULL,
	"created_by" text,
	"created_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL,
	"used_at" bigint,
	"used_by_node" text,
	CONSTRAINT "join_tokens_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
ALTER TABLE "join_tokens" ADD CONSTRAINT "join_tokens_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "node_id" text;
