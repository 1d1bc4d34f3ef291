-- Apps refuse a publish whose data breaks its type's JSON Schema unless they turn it off;
-- apps that existed before schemas enforce them too, as every new one does.
ALTER TABLE apps ADD COLUMN enforce_schemas BOOLEAN NOT NULL DEFAULT true;
