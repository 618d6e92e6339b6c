-- User-built connector types (script, external, OpenAPI): the model-specific part of a
-- type's definition (script source and limits, endpoint URL, operations), as JSON.
-- NULL for built-in types, whose behaviour is compiled in.
ALTER TABLE connector_types ADD COLUMN definition TEXT;
