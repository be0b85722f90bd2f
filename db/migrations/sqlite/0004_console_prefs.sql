ALTER TABLE `machines` ADD `record_console` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `users` ADD `prefs_json` text DEFAULT '{}' NOT NULL;