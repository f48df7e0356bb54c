-- Haven as an external component (XEP-0114) of Prosody.
-- Paste into prosody.cfg.lua: the global options near the top (before any VirtualHost),
-- the Component block at the end. Replace rooms.example.org and the secret; the secret goes
-- into Haven's config as [component] secret, and the port as [component] server_port.
-- tests/harness/prosody.cfg.lua.tmpl uses these same lines.

component_ports = { 5347 }
component_interfaces = { "127.0.0.1" }

Component "rooms.example.org"
    component_secret = "a long random secret"

-- Prosody accepts one connection per component domain (a second one is refused with
-- <conflict/>): run one Haven process per domain, with [component] connections = 1.
