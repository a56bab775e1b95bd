"""The registry store: tables, migrations, apply and reads."""
