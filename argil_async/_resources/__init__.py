"""The API's resources (``client.assets``, ``client.videos`` ...): one module each."""
