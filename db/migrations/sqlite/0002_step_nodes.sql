CREATE TABLE `step_nodes` (
	`key` text PRIMARY KEY NOT NULL,
	`parent_key` text,
	`step` text NOT NULL,
	`version` text NOT NULL,
	`args_json` text DEFAULT '{}' NOT NULL,
	`image` text NOT NULL,
	`driver` text NOT NULL,
	`snapshot_id` text,
	`duration_ms` integer DEFAULT 0 NOT NULL,
	`hits` integer DEFAULT 0 NOT NULL,
	`last_used_at` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `step_nodes_parent_idx` ON `step_nodes` (`parent_key`);