ALTER TABLE `share_links` ADD `recording_id` text;
