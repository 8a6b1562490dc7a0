-- The language a customer reads, for survey emails and pages: a language
-- code such as "es"; '' for the firm's default (English). Portable SQL.
ALTER TABLE customers ADD COLUMN language TEXT NOT NULL DEFAULT '';
