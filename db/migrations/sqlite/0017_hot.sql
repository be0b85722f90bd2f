ALTER TABLE `snapshots` ADD `hot` integer DEFAULT false NOT NULL;
