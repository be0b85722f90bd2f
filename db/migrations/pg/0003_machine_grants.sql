CREATE TABLE "machine_grants" (
	"machine_id" text NOT NULL,
	"user_id" text NOT NULL,
	"role" text NOT NULL,
	"created_by" text,
	"created_at" bigint NOT NULL,
	CONSTRAINT "machine_grants_machine_id_user_id_pk" PRIMARY KEY("machine_id","user_id")
);
--> statement-breakpoint
ALTER TABLE "machine_grants" ADD CONSTRAINT "machine_grants_machine_id_machines_id_fk" FOREIGN KEY ("machine_id") REFERENCES "public"."machines"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "machine_grants" ADD CONSTRAINT "machine_grants_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "machine_grants_user_idx" ON "machine_grants" USING btree ("user_id");