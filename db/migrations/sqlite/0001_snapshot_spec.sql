ALTER TABLE `snapshots` ADD `driver` text DEFAULT 'qemu' NOT NULL;--> statement-breakpoint
ALTER TABLE `snapshots` ADD `image` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `snapshots` ADD `spec_json` text DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE `snapshots` ADD `disk_path` text DEFAULT '' NOT NULL;