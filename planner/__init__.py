"""Staffing plans (`acd plan`): the fewest seat-hours of the site's shifts that meet a
target, found from Erlang C and corrected by replaying the day (`planner.plan`)."""
