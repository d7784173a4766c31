/* training-dashboard: in progress */
