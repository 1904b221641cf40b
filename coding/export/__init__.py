"""Exports: coded segments, theme report, programme x code matrix, agreement and audit.

Pure core: functions take DataFrames and model objects and return DataFrames, text or bytes.
``coding.service.export`` loads a study and writes the files.
"""
