-- The payloads of cluster events over PostgreSQL's 8000-byte NOTIFY limit (@socket.io/postgres-adapter's table; PostgreSQL only).
CREATE TABLE IF NOT EXISTS "socket_io_attachments" (
	"id" bigserial UNIQUE,
	"created_at" timestamptz DEFAULT now(),
	"payload" bytea
);
