-- Migration: Add Sensor Runtimes
-- Description: Sensors need runtimes of their own (runtime_type = 'sensor').
--              Registers the four the core pack's sensors run in.
-- Version: 20260202000001

INSERT INTO runtime (ref, pack, pack_ref, description, runtime_type, name, distributions, installation)
VALUES (
    'core.sensor.builtin',
    (SELECT id FROM pack WHERE ref = 'core'),
    'core',
    'Sensors built into the sensor service (timers, webhooks)',
    'sensor',
    'Builtin',
    '{"verification": {"always_available": true}}'::jsonb,
    NULL
);

INSERT INTO runtime (ref, pack, pack_ref, description, runtime_type, name, distributions, installation)
VALUES (
    'core.sensor.python',
    (SELECT id FROM pack WHERE ref = 'core'),
    'core',
    'Python 3 sensors',
    'sensor',
    'Python',
    '{"verification": {"commands": [{"binary": "python3", "args": ["--version"], "pattern": "Python 3\\."}]}}'::jsonb,
    '{"package_managers": ["pip"], "virtual_env_support": true}'::jsonb
);

INSERT INTO runtime (ref, pack, pack_ref, description, runtime_type, name, distributions, installation)
VALUES (
    'core.sensor.nodejs',
    (SELECT id FROM pack WHERE ref = 'core'),
    'core',
    'Node.js sensors',
    'sensor',
    'Node.js',
    '{"verification": {"commands": [{"binary": "node", "args": ["--version"], "pattern": "v\\d+\\."}]}}'::jsonb,
    '{"package_managers": ["npm"]}'::jsonb
);

INSERT INTO runtime (ref, pack, pack_ref, description, runtime_type, name, distributions, installation)
VALUES (
    'core.sensor.shell',
    (SELECT id FROM pack WHERE ref = 'core'),
    'core',
    'Shell script sensors',
    'sensor',
    'Shell',
    '{"verification": {"commands": [{"binary": "sh", "args": ["-c", "echo ok"], "pattern": "ok"}]}}'::jsonb,
    NULL
);
