-- Migration: Fix Webhook Function Overload
-- Description: 20260127000001 added enable_trigger_webhook(BIGINT, JSONB)
--              with a default for the JSONB argument, next to the original
--              enable_trigger_webhook(BIGINT). A call with one argument then
--              fails with "function enable_trigger_webhook(bigint) is not
--              unique". Remove the single-argument variants of the webhook
--              functions so that calls resolve to the JSONB-aware versions.
-- Version: 20260129000001

DROP FUNCTION IF EXISTS enable_trigger_webhook(BIGINT);
DROP FUNCTION IF EXISTS disable_trigger_webhook(BIGINT);
DROP FUNCTION IF EXISTS regenerate_trigger_webhook_key(BIGINT);
