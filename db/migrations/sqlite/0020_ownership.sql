ALTER TABLE `machines` ADD `node_id` text;
--> statement-breakpoint
ALTER TABLE `snapshots` ADD `node_id` text;
