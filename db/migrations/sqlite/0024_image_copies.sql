CREATE TABLE `image_copies` (
	`image_id` text NOT NULL,
	`node_id` text NOT NULL,
	`path` text NOT NULL,
	`image_updated_at` integer NOT NULL,
	`bytes` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`last_used_at` integer NOT NULL,
	PRIMARY KEY(`image_id`, `node_id`)
);
