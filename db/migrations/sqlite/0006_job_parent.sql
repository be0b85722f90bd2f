ALTER TABLE `jobs` ADD `parent_id` text;--> statement-breakpoint
CREATE INDEX `jobs_parent_idx` ON `jobs` (`parent_id`);