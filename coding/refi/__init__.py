"""REFI-QDA 1.0 exchange: codebooks (.qdc) and projects (.qdpx), written and read.

Pure core: functions take and return bytes, text and model objects; no Store, no paths.
"""
