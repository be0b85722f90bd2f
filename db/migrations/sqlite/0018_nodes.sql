CREATE TABLE `nodes` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`internal_url` text NOT NULL,
	`version` text NOT NULL,
	`public_key` text NOT NULL,
	`state` text DEFAULT 'active' NOT NULL,
	`capabilities_json` text DEFAULT '{}' NOT NULL,
	`drivers_json` text DEFAULT '[]' NOT NULL,
	`cpus` integer DEFAULT 0 NOT NULL,
	`memory_mib` integer DEFAULT 0 NOT NULL,
	`memory_limit_mib` integer DEFAULT 0 NOT NULL,
	`usage_json` text DEFAULT '{}' NOT NULL,
	`joined_at` integer NOT NULL,
	`heartbeat_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `nodes_name_unique` ON `nodes` (`name`);
--> statement-breakpoint
CREATE TABLE `join_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`token_hash` text NOT NULL,
	`created_by` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer,
	`used_by_node` text,
	FOREIGN KEY (`created_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `join_tokens_token_hash_unique` ON `join_tokens` (`token_hash`);
--> statement-breakpoint
ALTER TABLE `jobs` ADD `node_id` text;
