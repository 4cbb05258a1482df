// The CRM's own behaviour: no inline scripts anywhere (CSP).
