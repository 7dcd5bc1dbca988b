-- Label propagation ran enough steps: the last step changed no label. If this fails,
-- raise the identity_max_iterations var.
select record_key
from {{ ref('int_identity_components') }}
where component_label <> previous_step_label
