CREATE TABLE `backup_targets` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`kind` text NOT NULL,
	`config_json` text NOT NULL,
	`secret` text,
	`created_by` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`created_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `backup_targets_name_unique` ON `backup_targets` (`name`);--> statement-breakpoint
ALTER TABLE `schedules` ADD `backup_target_id` text;--> statement-breakpoint
ALTER TABLE `schedules` ADD `backup_keep` integer;