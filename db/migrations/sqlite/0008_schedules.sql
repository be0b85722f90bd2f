CREATE TABLE `schedules` (
	`id` text PRIMARY KEY NOT NULL,
	`machine_id` text,
	`tag` text,
	`cron` text NOT NULL,
	`time_zone` text NOT NULL,
	`keep_json` text NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`created_by` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`next_run_at` integer,
	`last_run_at` integer,
	`last_status` text,
	`last_job_id` text,
	`last_error` text,
	FOREIGN KEY (`created_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
ALTER TABLE `snapshots` ADD `schedule_id` text;