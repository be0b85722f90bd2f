CREATE TABLE "fork_links" (
	"id" text PRIMARY KEY NOT NULL,
	"snapshot_id" text NOT NULL,
	"machine_id" text,
	"token_hash" text NOT NULL,
	"label" text,
	"max_forks" integer NOT NULL,
	"used" integer NOT NULL,
	"lifetime_s" integer NOT NULL,
	"cpus" integer,
	"memory_mib" integer,
	"created_by" text,
	"created_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL,
	"revoked_at" bigint,
	CONSTRAINT "fork_links_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "fork_link_forks" (
	"id" text PRIMARY KEY NOT NULL,
	"link_id" text NOT NULL,
	"machine_id" text,
	"share_id" text,
	"state" text NOT NULL,
	"reason" text,
	"ip" text,
	"user_agent" text,
	"created_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL,
	"ended_at" bigint
);
--> statement-breakpoint
ALTER TABLE "fork_links" ADD CONSTRAINT "fork_links_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "fork_link_forks_link_idx" ON "fork_link_forks" USING btree ("link_id");
