/* architecture: in progress */
