{# Every day past due from 0 up falls in exactly one bucket: each bucket starts the day after the last one ends. #}
{% test bucket_edges_are_contiguous(model) %}
with ordered as (
    select
        bucket,
        min_days_past_due,
        max_days_past_due,
        lag(max_days_past_due) over (order by min_days_past_due) as previous_max,
        row_number() over (order by min_days_past_due) as position,
        count(*) over () as bucket_count
    from {{ model }}
)
select *
from ordered
where (position = 1 and min_days_past_due <> 0)
   or (position > 1 and (previous_max is null or min_days_past_due <> previous_max + 1))
   or (position < bucket_count and max_days_past_due is null)
   or (position = bucket_count and max_days_past_due is not null)
   or (max_days_past_due < min_days_past_due)
{% endtest %}
