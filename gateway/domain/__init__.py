"""Pure domain rules: records, NIK, Indonesian dates/money/gender, validation, contributions.

Nothing here imports Flask, SQLAlchemy, zeep or anything outside `gateway.domain`.
"""
