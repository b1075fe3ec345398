-- The request ids of idempotent creates (AIP-155), in the service's own schema: drizzle manages
-- public. Each row keeps the chat the first request created, so that a retry gets the same body
-- even after the chat changes. No foreign key into public, so that drizzle's migrations never
-- meet an object of this service; a chat deleted later is still answered as it was created.

CREATE TABLE IF NOT EXISTS neptun_chat_service.idempotency_key (
    user_id integer NOT NULL,
    request_id uuid NOT NULL,
    request_hash bytea NOT NULL,
    chat_id integer NOT NULL,
    chat_model text NOT NULL,
    chat_name text NOT NULL,
    chat_created_at timestamp without time zone NOT NULL,
    chat_updated_at timestamp without time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    CONSTRAINT idempotency_key_pkey PRIMARY KEY (user_id, request_id)
);

CREATE INDEX IF NOT EXISTS idempotency_key_expires_at_idx ON neptun_chat_service.idempotency_key (expires_at);
