"""The pure core: rules as data and (later) crediting and compliance. No Flask, no SQLAlchemy."""
