-- Embeddings of `prompt` matchers, computed when the rules are saved (never per message), with
-- the model that made them: vectors from another model are never compared.
ALTER TABLE reply_configs ADD COLUMN embeddings_json TEXT NOT NULL DEFAULT '{"model":null,"rules":{}}';
