ALTER TABLE `images` ADD `node_id` text;
