"""The rasa-sdk action server: one module per feature or form, on the plain booking core in `core/`.

rasa-sdk imports every module of this package and registers each concrete `Action`. Importing the
package does nothing else: logging and the rest of the start-up belong to `actions.server`.
"""
