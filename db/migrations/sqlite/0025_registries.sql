CREATE TABLE `registries` (
	`host` text PRIMARY KEY NOT NULL,
	`insecure` integer DEFAULT false NOT NULL,
	`username` text,
	`password` text,
	`ca` text,
	`updated_at` integer NOT NULL
);
