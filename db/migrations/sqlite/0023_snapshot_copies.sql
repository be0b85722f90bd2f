CREATE TABLE `snapshot_copies` (
	`snapshot_id` text NOT NULL,
	`node_id` text NOT NULL,
	`path` text NOT NULL,
	`disk_path` text NOT NULL,
	`spec_json` text NOT NULL,
	`bytes` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`last_used_at` integer NOT NULL,
	PRIMARY KEY(`snapshot_id`, `node_id`)
);
