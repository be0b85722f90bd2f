CREATE TABLE `fork_links` (
	`id` text PRIMARY KEY NOT NULL,
	`snapshot_id` text NOT NULL,
	`machine_id` text,
	`token_hash` text NOT NULL,
	`label` text,
	`max_forks` integer NOT NULL,
	`used` integer NOT NULL,
	`lifetime_s` integer NOT NULL,
	`cpus` integer,
	`memory_mib` integer,
	`created_by` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`revoked_at` integer,
	FOREIGN KEY (`created_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `fork_links_token_hash_unique` ON `fork_links` (`token_hash`);--> statement-breakpoint
CREATE TABLE `fork_link_forks` (
	`id` text PRIMARY KEY NOT NULL,
	`link_id` text NOT NULL,
	`machine_id` text,
	`share_id` text,
	`state` text NOT NULL,
	`reason` text,
	`ip` text,
	`user_agent` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`ended_at` integer
);
--> statement-breakpoint
CREATE INDEX `fork_link_forks_link_idx` ON `fork_link_forks` (`link_id`);
