ALTER TABLE `schedules` ADD `kind` text DEFAULT 'snapshot' NOT NULL;--> statement-breakpoint
ALTER TABLE `schedules` ADD `every_ms` integer;--> statement-breakpoint
ALTER TABLE `snapshots` ADD `undo_point` integer DEFAULT false NOT NULL;
